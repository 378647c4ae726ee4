// lucid: the umbrella header. Include this and use namespace lucid.
#pragma once
