/* event.c - (being written) */
