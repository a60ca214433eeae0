# discard only cancels the implicit keep; an explicit keep still files (RFC 5228 §4.5).
discard;
keep;
