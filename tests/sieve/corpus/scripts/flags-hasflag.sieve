require "imap4flags";
addflag "a";
if hasflag "a" { addflag "b"; }
if hasflag :contains "b" { addflag "c"; }
if hasflag "zzz" { addflag "never"; }
