redirect "alice@phone.test";
