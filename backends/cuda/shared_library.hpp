// A CUDA library loaded when first needed (cuDNN, cuSOLVER): programs that never use it
// neither load it nor need it installed, and the backend says what is missing instead.
#pragma once
#include <dlfcn.h>

#include <initializer_list>
#include <string>

namespace nx::cuda_backend {

class SharedLibrary {
 public:
  // The first of `names` that loads, from the loader's paths, else from the toolkit's
  // library folder this was built against; missing() says why none did.
  SharedLibrary(std::initializer_list<const char*> names, const char* what) {
    for (const char* name : names)
      if ((so_ = dlopen(name, RTLD_NOW | RTLD_LOCAL))) return;
#ifdef NX_CUDA_LIBRARY_DIR
    for (const char* name : names)
      if ((so_ = dlopen((std::string(NX_CUDA_LIBRARY_DIR) + "/" + name).c_str(), RTLD_NOW | RTLD_LOCAL))) return;
#endif
    missing_ = std::string(what) + " is not installed (" + *names.begin() + " not found)";
  }
  // Sets f to the entry point `name`; a missing one makes the library unusable.
  template <class F> void bind(F& f, const char* name) {
    f = so_ ? reinterpret_cast<F>(dlsym(so_, name)) : nullptr;
    if (!f && missing_.empty()) missing_ = std::string("the library lacks ") + name;
  }
  void set_missing(std::string why) { missing_ = std::move(why); }
  // Why it cannot be used, "" when it can.
  const std::string& missing() const { return missing_; }

 private:
  void* so_ = nullptr;  // kept loaded for the process
  std::string missing_;
};

}  // namespace nx::cuda_backend
