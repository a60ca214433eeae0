require "imap4flags";
if exists ["list-id", "list-unsubscribe"] { addflag "list"; }
if not exists "auto-submitted" { addflag "human"; }
if exists "x-no-such-field" { addflag "never"; }
