require "editheader";
addheader :last "X-Sieve-Note" "last";
addheader "X-Sieve-Note" "first";
