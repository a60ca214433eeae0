require ["variables", "imap4flags"];
set "lbl" "from-var";
addflag "f" ["${lbl}", "\\Answered"];
if hasflag "f" "from-var" { addflag "f" "checked"; }
setflag "${f}";
