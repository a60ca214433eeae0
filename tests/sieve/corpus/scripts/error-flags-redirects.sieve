require "imap4flags";
# Five redirects, one over the limit of four: the run fails, nothing is redirected, the message is kept without the flags.
addflag "\\Flagged";
redirect "a@phone.test";
redirect "b@phone.test";
redirect "c@phone.test";
redirect "d@phone.test";
redirect "e@phone.test";
