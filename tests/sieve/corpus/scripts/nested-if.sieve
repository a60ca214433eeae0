require ["fileinto", "imap4flags"];
if address :domain :is "from" "sender.test" {
  addflag "from-sender";
  if header :contains "subject" "invoice" {
    fileinto "Archive";
  } elsif header :contains "subject" "meeting" {
    addflag "\\Flagged";
  } else {
    addflag "other";
  }
} elsif address :domain :is "from" ["partner.test", "shop.test"] {
  fileinto "Trash";
} else {
  keep;
}
