/* timer.c - (being written) */
