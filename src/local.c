/* local.c - (being written) */
