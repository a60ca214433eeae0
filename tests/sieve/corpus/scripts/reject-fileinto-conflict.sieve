require ["reject", "fileinto"];
# RFC 5429 §2.1: reject cannot be combined with fileinto; the run fails and the implicit keep applies.
fileinto "Archive";
reject "No.";
