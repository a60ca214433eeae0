require ["variables", "fileinto", "mailbox"];
if header :matches "subject" "[*] *" { fileinto :create "Lists/${1}"; }
