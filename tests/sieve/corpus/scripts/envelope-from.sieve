require ["envelope", "fileinto"];
if envelope :domain "from" "lists.test" { fileinto "Archive"; }
