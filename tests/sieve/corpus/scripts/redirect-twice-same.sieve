redirect "a@phone.test";
redirect "A@phone.test";
