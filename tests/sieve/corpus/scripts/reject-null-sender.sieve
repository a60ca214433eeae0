require "reject";
# RFC 5429 §2.1: no rejection notice goes to the null reverse-path.
reject "Not wanted.";
