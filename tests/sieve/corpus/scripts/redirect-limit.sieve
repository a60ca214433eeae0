# Five redirects: over the limit of four (sieve_max_redirects), so the run fails and the implicit keep applies.
redirect "a@phone.test";
redirect "b@phone.test";
redirect "c@phone.test";
redirect "d@phone.test";
redirect "e@phone.test";
