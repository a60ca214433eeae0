require ["fileinto", "mailbox"];
if exists "list-id" { fileinto :create "Lists/Dev"; }
