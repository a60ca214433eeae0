require ["envelope", "subaddress", "fileinto", "mailbox"];
if envelope :detail "to" "shopping" { fileinto :create "Shopping"; }
