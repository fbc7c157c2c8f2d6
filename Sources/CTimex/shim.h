// The kernel clock's synchronisation state (adjtimex(2)), for palier doctor.
#include <sys/timex.h>
