require "imap4flags";
if header :matches "subject" "Invoice ????-?? *" { addflag "invoice-pattern"; }
if header :matches "subject" "*report*" { addflag "report"; }
if header :matches "message-id" "<*@sender.test>" { addflag "sender-id"; }
