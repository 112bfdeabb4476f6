/* semaphore.c - (being written) */
