require ["date", "relational", "fileinto"];
if date :value "lt" :originalzone "date" "year" "2025" { fileinto "Archive"; }
