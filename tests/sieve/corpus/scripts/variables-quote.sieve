require ["variables", "imap4flags"];
set :quotewildcard "q" "a*b?";
if string :is "${q}" "a\\*b\\?" { addflag "quoted"; }
set "e" "";
if string :is "${e}" "" { addflag "empty"; }
