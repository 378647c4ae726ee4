// cuda_emu_rewrite IN.cu OUT.cpp: turns a CUDA source into C++ that the
// emulator's header (cuda_emu.h) compiles. Two rewrites, nothing else:
//
//   kernel<T><<<grid, block, smem, stream>>>(a, b);
//     -> ::lucid_emu::launch("kernel<T>", ::lucid_emu::LaunchConfig(grid, block, smem, stream),
//                            [&](auto&... a) { kernel<T>(a...); }, a, b);
//   extern __shared__ double buf[];
//     -> double* buf = ::lucid_emu::dynamic_shared<double>();
//
// Line breaks are kept and the output starts with #line, so compiler errors and
// backtraces name the original .cu file and line.
#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The end of the comment, string or character literal starting at i, or i if none starts there.
size_t skip_literal(const std::string& s, size_t i) {
  if (s.compare(i, 2, "//") == 0) {
    const size_t e = s.find('\n', i);
    return e == std::string::npos ? s.size() : e;
  }
  if (s.compare(i, 2, "/*") == 0) {
    const size_t e = s.find("*/", i + 2);
    return e == std::string::npos ? s.size() : e + 2;
  }
  if (s[i] == '"' || s[i] == '\'') {
    const char q = s[i];
    size_t j = i + 1;
    while (j < s.size() && s[j] != q) j += s[j] == '\\' ? 2 : 1;
    return j + 1;
  }
  return i;
}

// The index one past the bracket that closes the one at `open` (( or <), skipping literals.
size_t match_forward(const std::string& s, size_t open, char o, char c) {
  int depth = 0;
  for (size_t i = open; i < s.size();) {
    const size_t j = skip_literal(s, i);
    if (j != i) {
      i = j;
      continue;
    }
    if (s[i] == o) ++depth;
    if (s[i] == c && --depth == 0) return i + 1;
    ++i;
  }
  throw std::runtime_error("unbalanced " + std::string(1, o));
}

// Where the kernel expression before `<<<` at `at` starts: identifiers joined by
// ::, each optionally followed by template arguments <...>.
size_t kernel_start(const std::string& s, size_t at) {
  size_t i = at;
  while (i > 0 && std::isspace(static_cast<unsigned char>(s[i - 1]))) --i;
  for (;;) {
    if (i > 0 && s[i - 1] == '>') {  // template arguments: back to the matching <
      int depth = 0;
      do {
        --i;
        if (s[i] == '>') ++depth;
        if (s[i] == '<') --depth;
      } while (depth > 0 && i > 0);
    }
    while (i > 0 && is_ident(s[i - 1])) --i;
    if (i >= 2 && s.compare(i - 2, 2, "::") == 0) {
      i -= 2;
      continue;
    }
    return i;
  }
}

std::string newlines_in(const std::string& s) {
  std::string r;
  for (char c : s)
    if (c == '\n') r += '\n';
  return r;
}

std::string collapse_space(const std::string& s) {
  std::string r;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) r += c;
  return r;
}

std::string rewrite(const std::string& s) {
  std::string out;
  size_t copied = 0;  // s[0, copied) is already in out
  for (size_t i = 0; i < s.size();) {
    const size_t j = skip_literal(s, i);
    if (j != i) {
      i = j;
      continue;
    }
    if (s.compare(i, 3, "<<<") == 0) {
      const size_t k = kernel_start(s, i);
      const size_t cfg_end = s.find(">>>", i);
      if (k < copied || cfg_end == std::string::npos) throw std::runtime_error("cannot parse a launch");
      size_t p = cfg_end + 3;
      while (p < s.size() && std::isspace(static_cast<unsigned char>(s[p]))) ++p;
      if (p >= s.size() || s[p] != '(') throw std::runtime_error("a launch without arguments");
      const size_t args_end = match_forward(s, p, '(', ')');
      const std::string kernel = s.substr(k, i - k);
      out += s.substr(copied, k - copied);
      // The arguments, without their parentheses, follow the generic lambda
      // (launch() evaluates them once); an empty list leaves no trailing comma.
      const std::string args = s.substr(p + 1, args_end - p - 2);
      const bool no_args = collapse_space(args).empty();
      out += "::lucid_emu::launch(\"" + collapse_space(kernel) + "\", ::lucid_emu::LaunchConfig(" +
             s.substr(i + 3, cfg_end - i - 3) + "), [&](auto&... lucid_emu_args) { " + kernel + "(lucid_emu_args...); }" +
             (no_args ? "" : ",") + args + ")" + newlines_in(s.substr(cfg_end + 3, p - cfg_end - 3));
      copied = i = args_end;
      continue;
    }
    if (s.compare(i, 17, "extern __shared__") == 0) {
      const size_t open = s.find("[]", i);
      if (open == std::string::npos) throw std::runtime_error("cannot parse extern __shared__");
      const std::string decl = s.substr(i + 17, open - i - 17);  // " double buf"
      size_t name_at = decl.size();
      while (name_at > 0 && std::isspace(static_cast<unsigned char>(decl[name_at - 1]))) --name_at;
      const size_t name_end = name_at;
      while (name_at > 0 && is_ident(decl[name_at - 1])) --name_at;
      const std::string name = decl.substr(name_at, name_end - name_at);
      const std::string type = decl.substr(0, name_at);
      out += s.substr(copied, i - copied);
      out += type + "* " + name + " = ::lucid_emu::dynamic_shared<" + type + ">()";
      copied = i = open + 2;
      continue;
    }
    ++i;
  }
  out += s.substr(copied);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: cuda_emu_rewrite IN.cu OUT.cpp\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "cuda_emu_rewrite: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string result;
  try {
    result = "#line 1 \"" + std::string(argv[1]) + "\"\n" + rewrite(buf.str());
  } catch (const std::exception& e) {
    std::cerr << "cuda_emu_rewrite: " << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
  std::ofstream out(argv[2], std::ios::binary);
  out << result;
  return out ? 0 : 1;
}
