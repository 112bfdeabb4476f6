#ifndef WEFT_TIMER_H
#define WEFT_TIMER_H
#endif
