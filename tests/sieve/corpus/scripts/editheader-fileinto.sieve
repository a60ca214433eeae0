require ["editheader", "fileinto", "copy"];
fileinto :copy "Trash";
addheader "X-Sieve-Folder" "Archive";
fileinto "Archive";
