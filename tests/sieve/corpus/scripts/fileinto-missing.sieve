require "fileinto";
# No such folder and no :create: the fileinto fails and the implicit keep applies (RFC 5228 §2.10.6).
fileinto "DoesNotExist";
