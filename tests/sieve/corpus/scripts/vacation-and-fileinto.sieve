require ["vacation", "fileinto"];
vacation :subject "Away" "Away.";
fileinto "Archive";
