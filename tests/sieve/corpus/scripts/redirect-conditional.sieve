require ["fileinto", "copy"];
if address :domain "from" "partner.test" {
  redirect :copy "boss@backup.test";
  fileinto "Archive";
}
