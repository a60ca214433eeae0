require "fileinto";
if address :domain "from" "partner.test" {
  if header :contains "subject" "holiday" {
    fileinto "Archive";
    stop;
  }
  fileinto "Trash";
}
