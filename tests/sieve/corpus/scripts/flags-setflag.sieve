require "imap4flags";
setflag "\\Seen";
