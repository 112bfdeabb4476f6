/* thread.c - (being written) */
