"""Audio in and out: reading and writing files, rate/channel conversion, cutting a song into
overlapping segments and putting it back together."""
