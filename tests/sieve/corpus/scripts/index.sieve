require ["index", "imap4flags"];
if header :index 2 :contains "received" "relay1" { addflag "second-hop"; }
if header :index 1 :last :contains "received" "desk" { addflag "origin"; }
if header :index 2 :is "x-label" "holiday" { addflag "label2"; }
