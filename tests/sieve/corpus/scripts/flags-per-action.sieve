require ["imap4flags", "fileinto", "copy"];
addflag "a";
fileinto :copy "Archive";
removeflag "a";
addflag "b";
