# A redirect to the user's own address.
redirect "alice@example.test";
