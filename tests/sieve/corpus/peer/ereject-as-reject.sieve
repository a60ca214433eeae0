# Pigeonhole 0.5 has no ereject: the differential test runs this there instead of ereject.sieve.
require "reject";
if header :contains "subject" "meds" { reject "Spam is not accepted here."; }
