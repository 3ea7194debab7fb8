// Must not compile: the flush stage sits below batch, so batch's headers are
// not on its include path. The "layers" test builds this and expects failure,
// which proves that the build enforces the layering (CMakeLists.txt).
#include "batch/TableBuffer.hpp"
