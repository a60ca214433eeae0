require "imap4flags";
addflag ["\\Flagged", "urgent", "later"];
removeflag "urgent";
