require ["fileinto", "imap4flags"];
if address :localpart "from" "bob" { addflag "bob"; }
if address :domain :is "from" "PARTNER.TEST" { addflag "partner"; }
if address :all :is ["to", "cc"] "team@example.test" { addflag "team"; }
if address :all :contains "to" "example.test" { addflag "to-local"; }
