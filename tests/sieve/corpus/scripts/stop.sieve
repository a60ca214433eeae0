require "fileinto";
fileinto "Archive";
stop;
fileinto "Trash";
