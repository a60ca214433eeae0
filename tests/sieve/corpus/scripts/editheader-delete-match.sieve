require "editheader";
deleteheader :contains "x-label" "oto";
