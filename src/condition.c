/* condition.c - (being written) */
