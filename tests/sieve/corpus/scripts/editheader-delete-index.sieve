require ["editheader", "index"];
deleteheader :index 2 "x-label";
