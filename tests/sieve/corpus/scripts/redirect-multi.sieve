redirect "a@phone.test";
redirect "b@phone.test";
keep;
