require "editheader";
deleteheader "x-priority";
