require ["fileinto", "imap4flags"];
if allof (exists "list-id", not header :contains "subject" "urgent") {
  fileinto "Archive";
} elsif anyof (size :over 10K, header :is "x-priority" "1", header :contains "subject" "prize") {
  addflag "big-or-urgent";
} elsif not anyof (exists "cc", address :domain "from" "sender.test") {
  addflag "neither";
}
