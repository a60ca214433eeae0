require ["body", "fileinto"];
if body :text :contains "invoice total" { fileinto "Archive"; }
