require ["fileinto", "imap4flags"];
if size :over 15K {
  fileinto "Archive";
} elsif size :under 400 {
  addflag "tiny";
}
