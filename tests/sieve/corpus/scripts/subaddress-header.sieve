require ["subaddress", "fileinto", "mailbox", "variables"];
if address :detail :matches "to" "*" { fileinto :create "tag-${1}"; }
