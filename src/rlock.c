/* rlock.c - (being written) */
