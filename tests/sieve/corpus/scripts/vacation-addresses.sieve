require "vacation";
vacation :addresses ["everyone@sender.test"] "Away.";
