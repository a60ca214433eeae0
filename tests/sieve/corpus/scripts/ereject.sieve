require "ereject";
if header :contains "subject" "meds" { ereject "Spam is not accepted here."; }
